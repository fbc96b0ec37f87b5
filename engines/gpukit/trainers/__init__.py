"""One module per learned engine; each has ``train(ctx) -> list[Export]`` and a ``CONFIG`` of its
full-strength (device) settings and a ``DRY`` override for the CPU dry run."""

# engine name -> module (the runner imports only the one it runs)
TRAINERS = {
    "sr-x4": "engines.gpukit.trainers.sr",
    "sr-x2": "engines.gpukit.trainers.sr",
    "inpaint": "engines.gpukit.trainers.inpaint",
    "colorize": "engines.gpukit.trainers.colorize",
    "spade": "engines.gpukit.trainers.spade",
    "segment": "engines.gpukit.trainers.segment",
    "igan": "engines.gpukit.trainers.igan",
}
