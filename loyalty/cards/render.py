"""QR code images of a token."""

import io

import qrcode
import qrcode.image.svg
from qrcode.constants import ERROR_CORRECT_M


def _qr(data: str) -> qrcode.QRCode:  # type: ignore[type-arg]
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=8, border=4)
    code.add_data(data)
    code.make(fit=True)
    return code


def png(data: str) -> bytes:
    buffer = io.BytesIO()
    _qr(data).make_image(fill_color="black", back_color="white").save(buffer, format="PNG")
    return buffer.getvalue()


def svg(data: str) -> bytes:
    buffer = io.BytesIO()
    _qr(data).make_image(image_factory=qrcode.image.svg.SvgPathImage).save(buffer)
    return buffer.getvalue()
