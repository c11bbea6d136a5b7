"""Measuring results: FID/KID (torchmetrics), SSIM/PSNR, the digit classifier, colour metrics, run evaluation."""
