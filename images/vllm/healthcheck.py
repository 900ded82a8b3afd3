"""Docker health check of the vLLM image: ``GET /health`` on the port the server listens on.

Python, not curl: python3 is certain to be in the vLLM image, curl is not part of its contract.
"""

import os
import sys
import urllib.request

url = f"http://127.0.0.1:{os.environ.get('SERVER_PORT', '8000')}/health"
try:
    with urllib.request.urlopen(url, timeout=5) as response:
        sys.exit(0 if response.status == 200 else 1)
except OSError as error:
    print(f"{url}: {error}")
    sys.exit(1)
