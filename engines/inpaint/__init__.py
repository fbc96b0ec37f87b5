"""Partial-convolution inpainting (Liu et al., ECCV 2018): layers, U-Net, masks, engine, training."""
