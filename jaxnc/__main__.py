import sys

from jaxnc.cli import main

sys.exit(main())
