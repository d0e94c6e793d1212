"""Thumbnails: a small JPEG of an image, upright (EXIF orientation applied). Pure."""

import io
import warnings
from typing import IO

from PIL import Image, ImageOps

JPEG_QUALITY = 85


def make_thumbnail(fileobj: IO[bytes], px: int, *, max_pixels: int) -> bytes:
    """JPEG bytes of the image scaled so its longest side is at most ``px`` (never up),
    turned as its EXIF orientation says, transparency flattened onto white."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        with Image.open(fileobj) as img:
            if img.width * img.height > max_pixels:
                raise ValueError(f"image of {img.width}x{img.height} pixels is over the limit")
            img.draft("RGB", (px, px))  # JPEG: decode at a reduced scale, much faster
            upright = ImageOps.exif_transpose(img)
            if upright.mode.startswith(("I", "F")):  # 16/32-bit greys: scale to 8 bits
                upright = upright.convert("I").point(lambda v: v * (1 / 256)).convert("L")
            upright.thumbnail((px, px), Image.Resampling.LANCZOS)
            if upright.mode in ("RGBA", "LA") or "transparency" in upright.info:
                rgba = upright.convert("RGBA")
                flat = Image.new("RGB", rgba.size, (255, 255, 255))
                flat.paste(rgba, mask=rgba.getchannel("A"))
                upright = flat
            elif upright.mode != "RGB":
                upright = upright.convert("RGB")
            out = io.BytesIO()
            upright.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    return out.getvalue()
