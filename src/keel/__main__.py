from keel.cli.entry import main

main()
