"""iGAN latent editing (Zhu et al., ECCV 2016): DCGAN generator + encoder, projection, constrained
edits, morphs and edit transfer back onto the photo."""
