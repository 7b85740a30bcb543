from setuptools import Extension, setup

setup(
    name="fastcount",
    version="1.0.0",
    packages=["fastcount"],
    ext_modules=[Extension("fastcount._fastcount", ["fastcount/_fastcount.c"])],
)
