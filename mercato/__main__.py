from mercato.cli import main

main()
