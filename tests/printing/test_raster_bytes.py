"""Our `GS v 0` slicing sends exactly what python-escpos's bitImageRaster would."""

from PIL import Image, ImageDraw

from printing.render import raster_bytes


def test_raster_bytes_match_python_escpos():
    from escpos.printer import Dummy

    img = Image.new("1", (200, 61), 1)  # width not a multiple of 8, height not of 24
    draw = ImageDraw.Draw(img)
    draw.ellipse((10, 5, 120, 55), outline=0, width=3)
    draw.text((130, 20), "A01", fill=0)
    p = Dummy()
    p.image(img, impl="bitImageRaster", fragment_height=24, center=False)
    assert raster_bytes(img, 24) == p.output


def test_a_render_leaves_python_escpos_shared_profile_alone():
    """python-escpos shares one capability profile per model in the process; a render must
    not set the paper width for every other render (a 58 mm and an 80 mm job at once)."""
    from escpos.printer import Dummy

    from printing.layout import Row
    from printing.profiles import profile
    from printing.render import render

    before = Dummy().profile.profile_data["media"]["width"].get("pixels")
    render([Row("테스트", "1,000")], profile("generic-58"))
    render([Row("테스트", "1,000")], profile("generic-80"))
    assert Dummy().profile.profile_data["media"]["width"].get("pixels") == before
