"""The serial pulse oximeters' live streams, from their sources' own bytes: a whole packet decodes
to the values its source documents, garbage before or inside resynchronises without a wrong value
getting through, the device's status comes through, and any bytes never raise."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from drivers.sensors.contec import NewFormat, OldFormat
from drivers.sensors.nonin import FormatTwo


def x(text: str) -> bytes:
    return bytes.fromhex(text.replace(" ", ""))


def test_contec_old_format_packets() -> None:
    """atbrask/CMS50Dplus's layout: C5 32 04 48 61 is strength 5, a beat, pleth 50, PR 72, SpO2 97;
    85 10 43 05 5F carries PR's bit 7 in byte 2: 133 /min, SpO2 95."""
    decoder = OldFormat()
    first, second = decoder.feed(x("C5 32 04 48 61 85 10 43 05 5F"))
    assert (first.value("spo2"), first.value("pulse_rate"), first.value("pleth"), first.value("signal_strength")) == (97, 72, 50, 5)
    assert first.flags == {"beat"} and first.extra["bargraph"] == 4
    assert (second.value("pulse_rate"), second.value("spo2")) == (133, 95)


def test_contec_old_format_resynchronises_and_says_finger_out() -> None:
    decoder = OldFormat()
    stream = x("13 37 C5 32 04") + x("48 61") + x("FF 00 85 10") + x("43 05 5F")  # garbage, a packet split over reads, a cut packet
    found = [m for chunk in (stream[:5], stream[5:9], stream[9:]) for m in decoder.feed(chunk)]
    assert [(m.value("pulse_rate"), m.value("spo2")) for m in found] == [(72, 97), (133, 95)]
    assert decoder.dropped == 4
    no_finger = OldFormat().feed(x("80 00 30 7F 7F"))[0]  # searching, probe error, no values
    assert no_finger.flags == {"sensor_off", "searching"}
    assert no_finger.value("spo2") is None and no_finger.value("pulse_rate") is None  # never « 127 /min » with no finger


def test_contec_new_format_capture() -> None:
    """bedsidemon's capture 01 E0 85 B3 96 C1 E1 FF FF: PR 65, SpO2 97 (bit 7 of each byte in the second)."""
    found = NewFormat().feed(x("AA 01 E0 85 B3 96 C1 E1 FF FF"))  # a stray byte first
    assert len(found) == 1
    assert (found[0].value("pulse_rate"), found[0].value("spo2"), found[0].value("pleth"), found[0].value("perfusion_index")) == (65, 97, 51, None)
    none = NewFormat().feed(x("01 88 80 80 80 FF FF 80 80"))[0]  # PR 0xFF (bit 7 from the second byte), SpO2 127: none
    assert none.value("pulse_rate") is None and none.value("spo2") is None


def test_contec_new_format_status_as_its_specification_says() -> None:
    """Contec's protocol V7.0, table 3: byte 2 bit 7 probe error (finger out, pleth 0x40), byte 3
    bit 7 searching, byte 4 bit 4 set when the PI is NOT valid; PI in hundredths, low byte first."""
    finger_out = NewFormat().feed(x("01 81 80 C0 90 FF FF FF FF"))[0]  # 0x80 in byte 2 carried by the high byte's bit 0
    assert finger_out.flags == {"sensor_off"}
    assert (finger_out.value("spo2"), finger_out.value("pulse_rate"), finger_out.reading("perfusion_index")) == (None, None, None)
    searching = NewFormat().feed(x("01 82 86 B2 85 C8 E1 9C 83"))[0]  # byte 3 = 0x80 | 50: searching, pleth 50
    assert searching.flags == {"searching"} and searching.value("pleth") == 50 and searching.value("spo2") is None
    with_pi = NewFormat().feed(x("01 A0 C6 B2 85 C8 E1 9C 83"))[0]  # beat, strength 6, PR 72, SpO2 97, PI 0x039C (its bit 7 from A0) = 9.24 %
    assert with_pi.flags == {"beat"}
    assert [(r.quantity, r.value) for r in with_pi.readings] == [
        ("spo2", 97), ("pulse_rate", 72), ("pleth", 50), ("signal_strength", 6), ("perfusion_index", 9.24)]


NONIN_PACKET_START = x("01 81 01 00 83  01 80 01 48 CA  01 80 01 61 E3  01 80 01 30 B2")  # pufferfish's TestFrameReceiver


def test_nonin_format_two_packet() -> None:
    decoder = FormatTwo()
    frames = decoder.feed(NONIN_PACKET_START)
    assert len(frames) == 4 and all(f.value("pleth") == 1 for f in frames)
    vitals = frames[2]
    assert (vitals.value("pulse_rate"), vitals.value("spo2")) == (72, 97)
    assert frames[3].extra == {"firmware": 0x30}


def test_nonin_resynchronises_on_garbage_and_a_bad_checksum() -> None:
    decoder = FormatTwo()
    corrupt = bytearray(NONIN_PACKET_START)
    corrupt[13] ^= 0x04  # the SpO2 frame's value altered: its checksum no longer matches
    frames = decoder.feed(x("00 FF 01") + bytes(corrupt))
    assert all(f.value("spo2") is None for f in frames)  # the bad frame is dropped, never shown as 101
    assert decoder.dropped >= 3
    frames = decoder.feed(NONIN_PACKET_START)
    assert [f.value("spo2") for f in frames if f.reading("spo2")] == [97]


def test_nonin_sensor_off_is_said() -> None:
    status = 0x80 | 0x01 | 0x40  # sync, sensor disconnected
    frame = bytes([0x01, status, 0x00, 0x00]) + bytes([(0x01 + status) & 0xFF])
    assert FormatTwo().feed(frame)[0].flags == {"sensor_off"}


@given(st.binary(max_size=200))
def test_any_bytes_never_raise(data: bytes) -> None:
    for decoder in (OldFormat(), NewFormat(), FormatTwo()):
        for found in decoder.feed(data):
            spo2, pi = found.value("spo2"), found.value("perfusion_index")
            assert spo2 is None or 0 <= spo2 <= 100  # never a value a device cannot mean
            assert pi is None or 0 < pi <= 22
