"""The clearly labelled demo district that `idp demo load` creates."""

from idp.demo.loader import load_demo_district
from idp.demo.summary import DemoSummary

__all__ = ["DemoSummary", "load_demo_district"]
