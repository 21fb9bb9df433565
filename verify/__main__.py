import sys

from .threads import preset_environment

preset_environment()  # before numpy or torch is imported (verify.threads says why)

from .cli import main  # noqa: E402

sys.exit(main())
