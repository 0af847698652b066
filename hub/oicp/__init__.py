"""OICP 2.3 in Hubject's role: the mutual-TLS front door, the partner client, and the services behind them."""
