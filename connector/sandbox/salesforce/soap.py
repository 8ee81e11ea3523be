"""The SOAP partner API's ``login()`` envelopes: the request read, the result and fault written.

Kept apart from the session logic so that the XML shapes (checked against the SOAP API
Developer Guide's ``LoginResult``/``GetUserInfoResult`` and the ``LoginFault`` a real login
server sends) sit in one place. The request is parsed with ElementTree on loopback only.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any
from xml.sax.saxutils import escape

from werkzeug.wrappers import Response

LOGIN_FAULT_MESSAGE = "Invalid username, password, security token; or user locked out."
_XML = "text/xml;charset=UTF-8"


def parse_login(body: bytes) -> tuple[str, str]:
    """Username and password of a partner ``login`` envelope (any namespace prefix)."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise ValueError("not XML") from exc
    login = next((el for el in root.iter() if _local(el.tag) == "login"), None)
    if login is None:
        raise ValueError("no login element")
    values = {_local(child.tag): (child.text or "") for child in login}
    return values.get("username", ""), values.get("password", "")


def login_result(
    *, instance_url: str, version: str, org_id: str, session_id: str, user: dict[str, Any]
) -> dict[str, Any]:
    """``LoginResult`` for ``user`` (a User record): endpoints carry the 15-character org id."""
    username = user.get("Username")
    info = {
        "accessibilityMode": False,
        "chatterExternal": False,
        "currencySymbol": "$",
        "orgAttachmentFileSizeLimit": 5242880,
        "orgDefaultCurrencyIsoCode": "USD",
        "orgDefaultCurrencyLocale": "en_US",
        "orgDisallowHtmlAttachments": False,
        "orgHasPersonAccounts": False,
        "organizationId": org_id,
        "organizationMultiCurrency": False,
        "organizationName": "cs-connector demo",
        "profileId": user.get("ProfileId"),
        "roleId": user.get("UserRoleId"),
        "sessionSecondsValid": 7200,
        "userDefaultCurrencyIsoCode": None,
        "userEmail": user.get("Email", username),
        "userFullName": user.get("Name", username),
        "userId": user.get("Id"),
        "userLanguage": user.get("LanguageLocaleKey", "en_US"),
        "userLocale": user.get("LocaleSidKey", "en_US"),
        "userName": username,
        "userTimeZone": user.get("TimeZoneSidKey", "America/Los_Angeles"),
        "userType": user.get("UserType", "Standard"),
        "userUiSkin": "Theme3",
    }
    base = f"{instance_url}/services/Soap"
    return {
        "metadataServerUrl": f"{base}/m/{version}/{org_id[:15]}",
        "passwordExpired": False,
        "sandbox": False,
        "serverUrl": f"{base}/u/{version}/{org_id[:15]}",
        "sessionId": session_id,
        "userId": user.get("Id"),
        "userInfo": info,
    }


def login_response(result: dict[str, Any]) -> Response:
    """HTTP 200 with the ``loginResponse`` envelope around ``result``."""
    body = (
        '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope '
        'xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns="urn:partner.soap.sforce.com" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><loginResponse>'
        + _element("result", result)
        + "</loginResponse></soapenv:Body></soapenv:Envelope>"
    )
    return Response(body, status=200, content_type=_XML)


def fault(code: str, message: str) -> Response:
    """A fault envelope with HTTP 500; ``sf:`` codes carry a ``LoginFault`` detail."""
    if code.startswith("soapenv:"):
        faultcode, faultstring, detail = code, message, ""
    else:
        faultcode, faultstring = f"sf:{code}", f"{code}: {message}"
        detail = (
            '<detail><sf:LoginFault xsi:type="sf:LoginFault">'
            f"<sf:exceptionCode>{code}</sf:exceptionCode>"
            f"<sf:exceptionMessage>{escape(message)}</sf:exceptionMessage>"
            "</sf:LoginFault></detail>"
        )
    body = (
        '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope '
        'xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:sf="urn:fault.partner.soap.sforce.com" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><soapenv:Fault>'
        f"<faultcode>{faultcode}</faultcode><faultstring>{escape(faultstring)}</faultstring>"
        f"{detail}</soapenv:Fault></soapenv:Body></soapenv:Envelope>"
    )
    return Response(body, status=500, content_type=_XML)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _element(name: str, value: Any) -> str:
    if value is None:
        return f'<{name} xsi:nil="true"/>'
    if isinstance(value, bool):
        return f"<{name}>{str(value).lower()}</{name}>"
    if isinstance(value, dict):
        inner = "".join(_element(k, v) for k, v in value.items())
        return f"<{name}>{inner}</{name}>"
    return f"<{name}>{escape(str(value))}</{name}>"
