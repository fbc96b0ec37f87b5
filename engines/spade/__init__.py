"""GauGAN / SPADE semantic image synthesis: networks, label conventions, facades data, engine,
training and the facades segmentation net used by the bench and the editor's "Segment photo"."""
