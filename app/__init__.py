"""GAN Studio's Qt application. Importing the package imports no Qt (the CLI dispatches headless)."""
