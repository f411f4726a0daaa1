"""The developer API over SOAP 1.1 (spyne), at /SOAP.svc with its WSDL at /SOAP.svc?wsdl.

The same three operations as REST, calling the same orders.intake functions:
this package only translates between SOAP and those calls.
"""
from soap.app import PATH, mount
from soap.types import NAMESPACE

__all__ = ["NAMESPACE", "PATH", "mount"]
