"""Central's numbered problems: the HTTP status is the integer part of the code,
and the body is ``{"message", "code", "details"?}`` in that key order. Messages
are worded as Central words them, since clients show them to people."""

import json
import math


class Problem(Exception):
    # Set when Central would refuse before the route's own work (its auth and
    # format steps), where OpenRosa routes have not yet added their headers.
    before_route = False
    # Set on the few problems Central answers in JSON whatever the route's own
    # format (OpenRosa XML, OData's XML for $metadata).
    always_json = False

    def __init__(self, code: float, message: str, details: dict | str | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details

    @property
    def status(self) -> int:
        return math.floor(self.code)

    def body(self) -> bytes:
        data: dict = {"message": self.message}
        if self.code != 500:
            data["code"] = self.code
        if self.details is not None:
            data["details"] = self.details
        return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()

    @classmethod
    def missing_parameter(cls, field: str) -> "Problem":
        return cls(400.2, f"Required parameter {field} missing.", {"field": field})

    @classmethod
    def missing_multipart_field(cls, field: str) -> "Problem":
        return cls(
            400.7, f"Required multipart POST field {field} missing.", {"field": field}
        )

    @classmethod
    def unexpected_value(cls, field: str, value, reason: str) -> "Problem":
        return cls(
            400.8,
            f"Unexpected {field} value {value}; {reason}",
            {"field": field, "value": value, "reason": reason},
        )

    @classmethod
    def invalid_type(cls, value: str, expected: str) -> "Problem":
        return cls(
            400.11,
            f'Invalid input data type: expected "{value}" to be ({expected})',
            {"value": value, "expected": expected},
        )

    @classmethod
    def unparseable(cls, fmt: str, raw_length: int) -> "Problem":
        return cls(
            400.1,
            f"Could not parse the given data ({raw_length} chars) as {fmt}.",
            {"format": fmt, "rawLength": raw_length},
        )

    @classmethod
    def invalid_skiptoken(cls) -> "Problem":
        return cls(400.35, "Invalid $skiptoken")

    @classmethod
    def repeat_id_not_found(cls) -> "Problem":
        return cls(400.34, "Record associated with the provided $skiptoken not found.")

    @classmethod
    def unparseable_filter(cls, reason: str) -> "Problem":
        return cls(
            400.18,
            f"The OData filter expression you provided could not be parsed: {reason}",
            {"reason": reason},
        )

    @classmethod
    def expected_deprecation(cls) -> "Problem":
        return cls(
            400.19,
            "This PUT endpoint expects a deprecatedID metadata tag pointing at the "
            "current version instanceID. I cannot find that tag in your request.",
        )

    @classmethod
    def authentication_failed(cls) -> "Problem":
        return cls(401.2, "Could not authenticate with the provided credentials.")

    @classmethod
    def https_only(cls) -> "Problem":
        return cls(401.3, "This authentication method is only available over HTTPS")

    @classmethod
    def insufficient_rights(cls) -> "Problem":
        return cls(
            403.1,
            "The authentication you provided does not have rights to perform that "
            "action.",
        )

    @classmethod
    def not_found(cls) -> "Problem":
        return cls(404.1, "Could not find the resource you were looking for.")

    @classmethod
    def deprecated_id_not_found(cls, deprecated_id: str) -> "Problem":
        return cls(
            404.5,
            "You tried to update an existing submission, but we can't find that "
            f"submission to update ({deprecated_id})",
            {"deprecatedId": deprecated_id},
        )

    @classmethod
    def form_version_not_found(cls, version: str) -> "Problem":
        return cls(
            404.6,
            f"The form version specified in this submission '{version}' does not "
            "exist.",
            {"formVersion": version},
        )

    @classmethod
    def unacceptable_format(cls, allowed: list[str], got: str) -> "Problem":
        return cls(
            406.1,
            "Requested format not acceptable; this resource allows: "
            f"{','.join(allowed)}.",
            {"allowed": allowed, "got": got},
        )

    @classmethod
    def xml_conflict(cls) -> "Problem":
        return cls(
            409.1,
            "A submission already exists with this ID, but with different XML. "
            "Resubmissions to attach additional multimedia must resubmit an "
            "identical xml_submission_file.",
        )

    @classmethod
    def uniqueness(cls, fields: list[str], values: list[str], table: str):
        return cls(
            409.3,
            f"A resource already exists with {','.join(fields)} value(s) of "
            f"{','.join(values)}.",
            {"fields": fields, "values": values, "table": table},
        )

    @classmethod
    def version_conflict(cls, xml_form_id: str, version: str) -> "Problem":
        return cls(
            409.6,
            f"You tried to publish the form '{xml_form_id}' with version '{version}', "
            "but a published form has already existed in this project with those "
            "identifiers.",
            {"xmlFormId": xml_form_id, "version": version},
        )

    @classmethod
    def deprecating_old(cls, deprecated_id: str) -> "Problem":
        return cls(
            409.9,
            "You tried to update a submission, but the copy you were editing "
            f"({deprecated_id}) is now out of date. Please get the new version that "
            "has been submitted, and make your edits again.",
            {"deprecatedId": deprecated_id},
        )

    @classmethod
    def duplicate_deleted(cls) -> "Problem":
        return cls(409.18, "This submission has been deleted. You may not resubmit it.")

    @classmethod
    def not_implemented(cls, feature: str) -> "Problem":
        return cls(
            501.1,
            f"The requested feature {feature} is not supported by this server.",
            {"feature": feature},
        )

    @classmethod
    def server_error(cls) -> "Problem":
        """Where Central (4f5943d) fails on an input it does not expect: its
        500 body has a message and no code."""
        problem = cls(500, "Internal Server Error")
        problem.always_json = True
        return problem

    @classmethod
    def unparseable_multipart(cls) -> "Problem":
        """A multipart body its parser rejects. Only a cut-off body was seen on
        a real Central; any other failure to parse is answered the same way."""
        problem = cls(
            400.39, "Multipart form content failed to parse.", "Unexpected end of form"
        )
        problem.always_json = True
        return problem

    @classmethod
    def unsupported_expression(cls, at: int, kind: str, text: str) -> "Problem":
        return cls(
            501.4,
            "The given OData filter expression uses features not supported by "
            f'this server: {kind} at {at} ("{text}")',
            {"at": at, "type": kind, "text": text},
        )

    @classmethod
    def unsupported_field(cls, text: str, at: int | None = None) -> "Problem":
        where = f" at {at}" if at is not None else ""
        details: dict = {"text": text}
        if at is not None:
            details = {"at": at, "text": text}
        return cls(
            501.5,
            "The given OData filter expression references fields not supported by "
            f"this server: {text}{where}",
            details,
        )

    @classmethod
    def unsupported_expand(cls, text: str) -> "Problem":
        return cls(
            501.6,
            "The given OData expand expression is not supported by this server: "
            f'"{text}". Currently, only "$expand=*" is supported.',
            {"text": text},
        )
