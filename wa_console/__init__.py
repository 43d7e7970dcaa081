"""wa-console: connect an organisation to the WhatsApp Business Cloud API and prove it works."""

__version__ = "0.1.0"
