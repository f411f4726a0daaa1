"""The three SOAP operations: each reads its arguments, calls orders.intake, and shapes the answer.

Every operation answers (ErrorCode, Message, payload). A ServiceError, and a
call over the rate limit, become the same tuple with the error's code and no
payload; that happens once for all three, in soap.app.FlaskBoundApplication.
Method names are the wire's operation names, which spyne takes from them.
"""
from __future__ import annotations

from typing import Any

from spyne import ServiceBase, Unicode, rpc

from orders import intake
from orders.codes import ErrorCode
from soap.types import ImageStatus, Required, Templates, template_of

NO_ERROR = ErrorCode.NO_ERROR.value
ANSWER = ("ErrorCode", "Message")

# Every argument is text, as on REST: orders.intake validates and gives the
# same ErrorCode for a bad value whichever protocol carried it.
_CREDENTIALS = {"email": "ContactEmail", "api_key": "ContactAPIkey"}


def _text(value: str | None) -> str:
    return value or ""


class OrdersService(ServiceBase):
    @rpc(Unicode, Unicode, _in_arg_names=_CREDENTIALS,
         _returns=(Required, Required, Templates), _out_variable_names=(*ANSWER, "Templates"))
    def GetTemplates(ctx: Any, email: str | None, api_key: str | None) -> tuple[str, str, list]:  # noqa: N802
        found = intake.list_templates(_text(email), _text(api_key))
        return NO_ERROR, "", [template_of(t) for t in found]

    @rpc(Unicode, Unicode, Unicode, Unicode, Unicode, Unicode, Unicode, Unicode, Unicode,
         _in_arg_names={
             **_CREDENTIALS,
             "developer_api_key": "DeveloperAPIkey",
             "template_id": "TemplateId",
             "image_url": "ImageURL",
             "image_url2": "ImageURL2",
             "requested_hours": "ImageRequestedDeliveryTimeInHours",
             "callback_url": "ImageCallbackURL",
             "idempotency_key": "IdempotencyKey",
         },
         _returns=(Required, Required, Unicode), _out_variable_names=(*ANSWER, "ImageTicket"))
    def AddImage(ctx: Any, email: str | None, api_key: str | None, developer_api_key: str | None,  # noqa: N802
                 template_id: str | None, image_url: str | None, image_url2: str | None,
                 requested_hours: str | None, callback_url: str | None,
                 idempotency_key: str | None = None) -> tuple[str, str, str]:
        order = intake.add_image(
            intake.AddImageRequest(
                contact_email=_text(email),
                contact_api_key=_text(api_key),
                developer_api_key=_text(developer_api_key),
                template_id=_text(template_id),
                image_url=_text(image_url),
                image_url2=_text(image_url2),
                requested_hours=_text(requested_hours),
                callback_url=_text(callback_url),
                idempotency_key=_text(idempotency_key),
            )
        )
        return NO_ERROR, "", order.ticket

    @rpc(Unicode, Unicode, Unicode, _in_arg_names={**_CREDENTIALS, "ticket": "ImageTicket"},
         _returns=(Required, Required, ImageStatus), _out_variable_names=(*ANSWER, "ImageStatus"))
    def GetImageStatus(ctx: Any, email: str | None, api_key: str | None,  # noqa: N802
                       ticket: str | None) -> tuple[str, str, ImageStatus]:
        status = intake.image_status(_text(email), _text(api_key), _text(ticket))
        return NO_ERROR, status.message, ImageStatus(
            FinalImageURL=status.final_image_url,
            ImageTicket=status.ticket,
            StatusId=int(status.status),
            StatusName=status.status.wire_name,
        )
