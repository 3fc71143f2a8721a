"""The sharing service: the shared tier's datasets over HTTP for other agencies' systems and the IOC (issue 18)."""
