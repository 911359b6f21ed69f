"""CRM Desktop: a lightweight marketing CRM for schools and school staff."""

__version__ = "0.1.0"
APP_NAME = "CRM Desktop"
APP_ID = "crm-desktop"
ORG_NAME = "CRM Desktop"
