"""Looking at runs: results grids over training, latent-space plots, one HTML report per run.

Everything draws with matplotlib on the headless Agg canvas and is importable without the CLI::

    from ganctl.viz import build_grid, plot_latent, write_report
    write_report("runs/cyclegan/exp")          # -> runs/cyclegan/exp/report.html
"""

from ganctl.viz.grid import build_grid
from ganctl.viz.latent import plot_latent
from ganctl.viz.report import render_report, write_report

__all__ = ["build_grid", "plot_latent", "render_report", "write_report"]
