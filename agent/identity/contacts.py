"""Email addresses and mobile numbers, checked and normalised once for every kind of person
(patients, companions, specialists): they carry invitations and one-time codes, so a typo
found at entry is an invitation that would never have arrived."""

from __future__ import annotations

# The two checkers are imported at their first use (a contact typed in), not at each start:
# together 35 ms and 1.2 MiB of an agent that may not see a contact all day.


def email(value: str) -> str:
    """The address in its normalised form; ValueError with a French reason otherwise."""
    from email_validator import EmailNotValidError, validate_email

    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValueError("adresse e-mail invalide") from exc


def mobile(value: str) -> str:
    """A mobile number (it must receive SMS) in E.164; French numbers may omit the +33."""
    import phonenumbers

    try:
        number = phonenumbers.parse(value, "FR")
    except phonenumbers.NumberParseException as exc:
        raise ValueError("numéro de téléphone illisible") from exc
    kinds = (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)
    if not phonenumbers.is_valid_number(number) or phonenumbers.number_type(number) not in kinds:
        raise ValueError("numéro de téléphone portable invalide (il reçoit les SMS)")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def optional_email(value: str | None) -> str | None:
    return email(value) if value else None


def optional_mobile(value: str | None) -> str | None:
    return mobile(value) if value else None
