from pipeline.cli.process import run

run()
