"""What every operation needs to know about the caller, whatever the transport."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from models.secrets import SecretBox


@dataclass
class RequestContext:
    organization_id: uuid.UUID
    secrets: SecretBox
    request_id: str = ""
    # Set once the document is parsed; the request log names the operation.
    operation_name: str | None = None
