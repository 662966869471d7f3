from slimrlfn.cli import main

raise SystemExit(main())
