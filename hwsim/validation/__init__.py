"""Published measurements on real hardware (`hwsim validate`): the shipped YAML table and its
typed loader. The flow that simulates each row lives in hwsim.api.flows.validation."""
from hwsim.validation.table import (METRICS, UNITS, Row, load_rows, load_table, table_paths)

__all__ = ["METRICS", "UNITS", "Row", "load_rows", "load_table", "table_paths"]
