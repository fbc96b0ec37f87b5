"""The classical colorization baseline (no network): each hint's ab spread over its region.

Every pixel takes the ab of the one hint that is "nearest" (never a mix of hints) in a geodesic
cost on L (:func:`.refine.geodesic_spread`: path length plus the lightness edges crossed on the way,
plus the pixel's lightness difference to the hint), at the network's 256² working size, so results
do not depend on photo size. Colour stops at strong edges of L. With no hints the result is grey.
The ab plane is joined with the photo's full-resolution L, like the network engines.
"""

from __future__ import annotations

import time

from ..core.images import check_image
from ..core.protocol import ColorizeRequest, EngineError, EngineInfo, Hint, Input, Progress, Result, RunContext, RunGenerator, Task
from ..core.registry import register
from .lab import NET_SIZE, join_ab, net_L, rgb_to_lab
from .refine import geodesic_spread


class BaselineColorizer:
    info = EngineInfo(
        id="baseline", task=Task.COLORIZE, title="Classical: nearest hint of similar lightness",
        license="GAN Studio (no weights)", inputs=(Input.IMAGE, Input.HINTS),
        description="Each hint's colour fills the region closest to it in distance and lightness; "
                    "the benchmark's baseline. Grey without hints.",
    )

    def run(self, request: ColorizeRequest, ctx: RunContext) -> RunGenerator:
        if not isinstance(request, ColorizeRequest):
            raise EngineError(f"baseline needs a ColorizeRequest, got {type(request).__name__}")
        from .engine import check_hints

        image = check_image(request.image)
        hints = check_hints(request.hints, *image.shape[:2])
        started = time.perf_counter()
        yield Progress(0, 2, "spreading hints")
        L_full = rgb_to_lab(image)[..., 0]
        ab = geodesic_spread(net_L(L_full, NET_SIZE), hints, image.shape[:2])
        ctx.cancel.raise_if_cancelled()
        yield Progress(1, 2, "join with full-resolution L")
        return Result(image=join_ab(L_full, ab), seconds=time.perf_counter() - started,
                      extras={"ab": ab, "arch": "baseline", "hints": len(hints)})


register(BaselineColorizer.info, BaselineColorizer)
