import os
import sys

# Make `asyrp_tools` importable however pytest is invoked (repo root or tools/).
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
