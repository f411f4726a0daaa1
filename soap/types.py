"""The SOAP API's XML types, named as in the reference API's SOAP version.

Children are listed in the REST responses' element order, so both protocols
describe one order the same way.
"""
from __future__ import annotations

from spyne import Array, ComplexModel, DateTime, Decimal, Integer, Unicode

from orders.models import Template as TemplateRow
from soap import NAMESPACE  # defined beside PATH, where importing it needs no spyne

# Always present in an answer, as REST's ERRORCODE and message are.
Required = Unicode(min_occurs=1, nillable=False)


class Price(ComplexModel):
    __namespace__ = NAMESPACE
    # The database keeps two decimals (Numeric(12, 2)), so this writes "0.95" as REST does.
    _type_info = [
        ("Amount", Decimal(12, 2)),
        ("CurrencyId", Integer),
    ]


class Template(ComplexModel):
    __namespace__ = NAMESPACE
    _type_info = [
        ("Price", Price),
        ("TemplateId", Integer),
        ("TemplateName", Unicode),
    ]


class ImageStatus(ComplexModel):
    __namespace__ = NAMESPACE
    _type_info = [
        ("FinalImageURL", Unicode),
        ("ImageTicket", Unicode),
        ("StatusId", Integer),
        ("StatusName", Unicode),
        ("CustomerImageId", Unicode),
    ]


class ImageSummary(ComplexModel):
    __namespace__ = NAMESPACE
    _type_info = [
        ("ImageTicket", Unicode),
        ("CustomerImageId", Unicode),
        ("StatusId", Integer),
        ("StatusName", Unicode),
        ("Created", DateTime),
        ("Due", DateTime),
        ("FinalImageURL", Unicode),
    ]


class ImagesList(ComplexModel):
    __namespace__ = NAMESPACE
    _type_info = [
        ("Total", Integer),
        ("Page", Integer),
        ("PerPage", Integer),
        ("Images", Array(ImageSummary)),
    ]


class CancelledImage(ComplexModel):
    __namespace__ = NAMESPACE
    _type_info = [
        ("ImageTicket", Unicode),
        ("StatusId", Integer),
        ("StatusName", Unicode),
    ]


class RedoAccepted(ComplexModel):
    __namespace__ = NAMESPACE
    _type_info = [
        ("ImageTicket", Unicode),
        ("StatusId", Integer),
        ("StatusName", Unicode),
        ("RedoNumber", Integer),
        ("Markup", Unicode),
    ]


class StatusCount(ComplexModel):
    __namespace__ = NAMESPACE
    _type_info = [
        ("StatusId", Integer),
        ("StatusName", Unicode),
        ("Count", Integer),
    ]


class Account(ComplexModel):
    __namespace__ = NAMESPACE
    _type_info = [
        ("Email", Unicode),
        ("Month", Unicode),
        ("Orders", Array(StatusCount)),
        ("AmountsDue", Array(Price)),
        ("Commissions", Array(Price)),  # developer partners only
    ]


class StatementLine(ComplexModel):
    __namespace__ = NAMESPACE
    _type_info = [
        ("ImageTicket", Unicode),
        ("CustomerImageId", Unicode),
        ("Delivered", DateTime),
        ("TemplateId", Integer),
        ("Amount", Decimal(12, 2)),
        ("CurrencyId", Integer),
    ]


class Statement(ComplexModel):
    __namespace__ = NAMESPACE
    _type_info = [
        ("Email", Unicode),
        ("Month", Unicode),
        ("Lines", Array(StatementLine)),
        ("Totals", Array(Price)),
        ("CommissionLines", Array(StatementLine)),  # developer partners only
        ("CommissionTotals", Array(Price)),
    ]


Templates = Array(Template)


def template_of(row: TemplateRow) -> Template:
    return Template(
        Price=Price(Amount=row.price_amount, CurrencyId=row.currency_id),
        TemplateId=row.id,
        TemplateName=row.name,
    )
