"""Python client for the remotectl agent (ctld).

``Client`` wraps every RPC of remotectl.v1 (the generated messages and stubs
are the ``remotectl.v1`` package installed alongside). Install with pip
(docs/clients/python.md); nothing is put on sys.path by hand.
"""

from remotectl_client.client import AGENT_DEFAULT_WAIT, Client, ProcessWatch, Watch
from remotectl_client.follow import Backoff, follow

__all__ = ["AGENT_DEFAULT_WAIT", "Backoff", "Client", "ProcessWatch", "Watch", "follow"]
