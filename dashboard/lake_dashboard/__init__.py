"""The French dashboard of the e-commerce lake: every page reads the lake's HTTP API only."""
