from analogvle.cli import main

raise SystemExit(main())
