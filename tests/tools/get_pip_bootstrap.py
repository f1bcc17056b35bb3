"""Stand-in for pip's get-pip.py, for `ansible-test sanity --venv` on machines without internet.

ansible-test downloads get-pip.py from the internet, which these machines cannot reach; it
accepts a script cached at ~/.ansible/test/cache/get_pip_<version>.py instead. This one
bootstraps pip with ensurepip in a subprocess, then lets that pip install what ansible-test
asked for, reading the machine's own pip configuration (index, wheels, constraints).
"""
import subprocess
import sys

DROP = {"--no-setuptools", "--no-wheel"}


def main():
    args = [a for a in sys.argv[1:] if a not in DROP]
    subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade"])
    subprocess.check_call([sys.executable, "-m", "pip", "install"] + args)


if __name__ == "__main__":
    main()
