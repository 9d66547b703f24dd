"""The console's web layer: pages, forms, live streams, sign-in."""
