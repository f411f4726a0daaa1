"""The SOAP operations: each reads its arguments, calls the service in orders/, and shapes the answer.

Every operation answers (ErrorCode, Message, payload). A ServiceError, and a
call over the rate limit, become the same tuple with the error's code and no
payload; that happens once for all of them, in soap.app.FlaskBoundApplication.
Method names are the wire's operation names, which spyne takes from them.
"""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from spyne import ServiceBase, Unicode, rpc

from orders import billing, cancellation, intake, listing, redo
from orders.codes import ErrorCode
from soap.types import (
    Account,
    CancelledImage,
    ImagesList,
    ImageStatus,
    ImageSummary,
    Price,
    RedoAccepted,
    Required,
    Statement,
    StatementLine,
    StatusCount,
    Templates,
    template_of,
)

NO_ERROR = ErrorCode.NO_ERROR.value
ANSWER = ("ErrorCode", "Message")

# Every argument is text, as on REST: orders.intake validates and gives the
# same ErrorCode for a bad value whichever protocol carried it.
_CREDENTIALS = {"email": "ContactEmail", "api_key": "ContactAPIkey"}


def _text(value: str | None) -> str:
    return value or ""


def _utc(moment: datetime) -> datetime:
    """A stored naive-UTC time, marked as UTC so it goes on the wire with Z."""
    return moment.replace(tzinfo=UTC)


class OrdersService(ServiceBase):
    @rpc(Unicode, Unicode, _in_arg_names=_CREDENTIALS,
         _returns=(Required, Required, Templates), _out_variable_names=(*ANSWER, "Templates"))
    def GetTemplates(ctx: Any, email: str | None, api_key: str | None) -> tuple[str, str, list]:  # noqa: N802
        found = intake.list_templates(_text(email), _text(api_key))
        return NO_ERROR, "", [template_of(t) for t in found]

    @rpc(Unicode, Unicode, Unicode, Unicode, Unicode, Unicode, Unicode, Unicode, Unicode, Unicode, Unicode, Unicode,
         Unicode, _in_arg_names={
             **_CREDENTIALS,
             "developer_api_key": "DeveloperAPIkey",
             "template_id": "TemplateId",
             "image_url": "ImageURL",
             "image_url2": "ImageURL2",
             "requested_hours": "ImageRequestedDeliveryTimeInHours",
             "callback_url": "ImageCallbackURL",
             "idempotency_key": "IdempotencyKey",
             "customer_image_id": "CustomerImageId",
             "product_id": "ProductId",
             "instructions": "Instructions",
             "test": "Test",
         },
         _returns=(Required, Required, Unicode), _out_variable_names=(*ANSWER, "ImageTicket"))
    def AddImage(ctx: Any, email: str | None, api_key: str | None, developer_api_key: str | None,  # noqa: N802
                 template_id: str | None, image_url: str | None, image_url2: str | None,
                 requested_hours: str | None, callback_url: str | None,
                 idempotency_key: str | None = None, customer_image_id: str | None = None,
                 product_id: str | None = None, instructions: str | None = None,
                 test: str | None = None) -> tuple[str, str, str]:
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
                customer_image_id=_text(customer_image_id),
                product_id=_text(product_id),
                instructions=_text(instructions),
                test=_text(test),
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
            CustomerImageId=status.customer_image_id,
        )

    @rpc(Unicode, Unicode, Unicode, Unicode, Unicode, Unicode, Unicode, Unicode,
         _in_arg_names={**_CREDENTIALS, "status_ids": "StatusId", "created_from": "From", "created_to": "To",
                        "customer_image_id": "CustomerImageId", "page": "Page", "per_page": "PerPage"},
         _returns=(Required, Required, ImagesList), _out_variable_names=(*ANSWER, "ImagesList"))
    def GetImagesList(ctx: Any, email: str | None, api_key: str | None, status_ids: str | None,  # noqa: N802
                      created_from: str | None, created_to: str | None, customer_image_id: str | None,
                      page: str | None, per_page: str | None) -> tuple[str, str, ImagesList]:
        found = listing.list_images(_text(email), _text(api_key), listing.ImagesQuery(
            status_ids=_text(status_ids), created_from=_text(created_from), created_to=_text(created_to),
            customer_image_id=_text(customer_image_id), page=_text(page), per_page=_text(per_page)))
        return NO_ERROR, "", ImagesList(Total=found.total, Page=found.number, PerPage=found.per_page, Images=[
            ImageSummary(ImageTicket=item.ticket, CustomerImageId=item.customer_image_id, StatusId=int(item.status),
                         StatusName=item.status.wire_name, Created=_utc(item.created_at), Due=_utc(item.due_at),
                         FinalImageURL=item.final_image_url)
            for item in found.items])

    @rpc(Unicode, Unicode, Unicode, _in_arg_names={**_CREDENTIALS, "ticket": "ImageTicket"},
         _returns=(Required, Required, CancelledImage), _out_variable_names=(*ANSWER, "Image"))
    def CancelImage(ctx: Any, email: str | None, api_key: str | None,  # noqa: N802
                    ticket: str | None) -> tuple[str, str, CancelledImage]:
        status = cancellation.cancel(_text(email), _text(api_key), _text(ticket))
        return NO_ERROR, "", CancelledImage(ImageTicket=_text(ticket).strip().lower(), StatusId=int(status),
                                            StatusName=status.wire_name)

    @rpc(Unicode, Unicode, Unicode, Unicode, Unicode,
         _in_arg_names={**_CREDENTIALS, "ticket": "ImageTicket", "comment": "Comment",
                        "markup_url": "MarkupImageURL"},
         _returns=(Required, Required, RedoAccepted), _out_variable_names=(*ANSWER, "Redo"))
    def RejectProcessedImage(ctx: Any, email: str | None, api_key: str | None, ticket: str | None,  # noqa: N802
                             comment: str | None, markup_url: str | None) -> tuple[str, str, RedoAccepted]:
        accepted = redo.request_redo(_text(email), _text(api_key), _text(ticket), _text(comment), _text(markup_url))
        return NO_ERROR, "", RedoAccepted(ImageTicket=accepted.ticket, StatusId=int(accepted.status),
                                          StatusName=accepted.status.wire_name, RedoNumber=accepted.number,
                                          Markup=accepted.markup.value)

    @rpc(Unicode, Unicode, _in_arg_names=_CREDENTIALS,
         _returns=(Required, Required, Account), _out_variable_names=(*ANSWER, "Account"))
    def GetAccount(ctx: Any, email: str | None, api_key: str | None) -> tuple[str, str, Account]:  # noqa: N802
        summary = billing.account(_text(email), _text(api_key))
        return NO_ERROR, "", Account(
            Email=summary.email, Month=str(summary.month),
            Orders=[StatusCount(StatusId=int(s), StatusName=s.wire_name, Count=n)
                    for s, n in summary.orders_by_status.items()],
            AmountsDue=[_price(m) for m in summary.amounts_due],
            Commissions=None if summary.commissions is None else [_price(m) for m in summary.commissions])

    @rpc(Unicode, Unicode, Unicode, _in_arg_names={**_CREDENTIALS, "month": "Month"},
         _returns=(Required, Required, Statement), _out_variable_names=(*ANSWER, "Statement"))
    def GetStatement(ctx: Any, email: str | None, api_key: str | None,  # noqa: N802
                     month: str | None) -> tuple[str, str, Statement]:
        found = billing.statement(_text(email), _text(api_key), _text(month))
        partner = found.commission_lines is not None
        return NO_ERROR, "", Statement(
            Email=found.email, Month=str(found.month), Lines=[_line(line) for line in found.lines],
            Totals=[_price(m) for m in found.totals],
            CommissionLines=[_line(line) for line in found.commission_lines] if partner else None,
            CommissionTotals=[_price(m) for m in found.commission_totals or []] if partner else None)


def _price(money: billing.Money) -> Price:
    return Price(Amount=money.amount, CurrencyId=money.currency_id)


def _line(line: billing.StatementLine) -> StatementLine:
    return StatementLine(ImageTicket=line.ticket, CustomerImageId=line.customer_image_id,
                         Delivered=_utc(line.delivered_at), TemplateId=line.template_id, Amount=line.amount,
                         CurrencyId=line.currency_id)
