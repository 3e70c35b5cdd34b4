"""``make demo``: drive the running stack through the gateway, as a user would, and report."""
