"""Talking to Meta: the Graph API client and webhook signing, verification and parsing. No Qt."""
