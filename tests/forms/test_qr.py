"""The QR reader the provisioning tests use (tests/forms/qr.py), checked
against symbols segno makes; no Java needed."""

import segno

from server.forms.provision import collect_settings
from tests.forms.qr import decode


def test_qr_reading__segno_symbols__read_back_as_written():
    payload = collect_settings(
        central_url="https://central.example.gov.vn",
        token="t" * 64,
        project_id=3,
        project_name="An Giang: Xã Mỹ Hòa Hưng",
        username="30301",
    )
    symbol = segno.make(payload, micro=False, error="m")
    assert decode([[bool(v) for v in row] for row in symbol.matrix]) == payload
