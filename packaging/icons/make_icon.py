"""Draws the app icon (a market awning over 장, in the till's colours) as jangteo.png.

    uv run python packaging/icons/make_icon.py

The PNG is committed; build.py turns it into .ico and .icns where a platform needs them."""

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

HERE = Path(__file__).resolve().parent
FONT = HERE.parent.parent / "printing" / "fonts" / "NanumGothicBold.ttf"


def draw(size: int = 512) -> Image.Image:
    img = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    r = size // 8
    d.rounded_rectangle((0, 0, size - 1, size - 1), radius=r, fill=(255, 250, 240, 255))
    stripes = 6
    w = size / stripes
    for k in range(stripes):  # the awning
        colour = (211, 84, 0, 255) if k % 2 == 0 else (255, 255, 255, 255)
        d.rectangle((k * w, size * 0.10, (k + 1) * w, size * 0.30), fill=colour)
        d.pieslice((k * w, size * 0.22, (k + 1) * w, size * 0.38), 0, 180, fill=colour)
    font = ImageFont.truetype(str(FONT), int(size * 0.50))
    d.text((size / 2, size * 0.68), "장", font=font, fill=(51, 51, 51, 255), anchor="mm")
    return img


if __name__ == "__main__":
    draw().save(HERE / "jangteo.png")
