"""What a UI test uses to drive and watch the mock: the request journal, verification, the
scenario chosen per call. Nothing here knows HTTP; `http/control.py` serves it under `/__mock/`."""


class ControlError(ValueError):
    """Bad input to a control feature; the HTTP layer answers it with a 400 and this message."""
