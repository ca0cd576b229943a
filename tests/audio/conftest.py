from tests.audio.pulse_server import pulse_server  # noqa: F401  (the fixture, for this package's tests)
