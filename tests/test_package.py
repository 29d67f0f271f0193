import subprocess
import sys


def test_import_is_light():
    code = "import sys, crossscale, crossscale.atlas, crossscale.maps; print('torch' in sys.modules, 'matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False False"
