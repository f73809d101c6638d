"""Zalo Bot API updates, parsed strictly and minimally (pydantic).

Only what the hotline needs crosses this line: the sender's and the chat's ids, the
message id and time, the text, a photo reference. The sender's ``display_name`` (and any
other field) is never read: the models do not declare it, so parsing drops it.
"""

from __future__ import annotations

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

TEXT = "message.text.received"
IMAGE = "message.image.received"
STICKER = "message.sticker.received"
UNSUPPORTED = "message.unsupported.received"

_MAX_ID = 128
_MAX_REF = 2048


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, coerce_numbers_to_str=True)


class ZaloSender(_Model):
    id: str = Field(min_length=1, max_length=_MAX_ID)


class ZaloChat(_Model):
    id: str = Field(min_length=1, max_length=_MAX_ID)
    chat_type: str | None = Field(default=None, max_length=32)

    @property
    def private(self) -> bool:
        """A one-to-one chat (a report is never taken where others can read it)."""
        return self.chat_type is None or self.chat_type.upper() == "PRIVATE"


class ZaloMessage(_Model):
    message_id: str | None = Field(default=None, max_length=_MAX_ID)
    sender: ZaloSender = Field(alias="from")
    chat: ZaloChat
    text: str | None = None
    photo: str | None = Field(
        default=None, max_length=_MAX_REF, validation_alias=AliasChoices("photo", "photo_url")
    )
    caption: str | None = None


class ZaloUpdate(_Model):
    """One update, as getUpdates returns it and as the webhook receives it."""

    event_name: str = Field(max_length=64)
    message: ZaloMessage | None = None


class ZaloBotInfo(_Model):
    id: str
    account_name: str | None = None
