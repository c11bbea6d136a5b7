"""ganctl: GAN image-to-image translation from the command line.

The library is usable without the CLI; the ``ganctl`` command only wires it.
"""

__version__ = "0.1.0"
