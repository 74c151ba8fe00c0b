# The mock AgentOS as a service for UI test setups: see "Docker compose" in README.md.
#   docker build -t mockserver .
#   docker run --rm -p 7777:7777 -v "$PWD/scenarios:/scenarios:ro" mockserver
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first, read from pyproject.toml: this layer is rebuilt only when they change.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > requirements.txt \
    && pip install --no-cache-dir -r requirements.txt

COPY README.md ./
COPY mockserver/ mockserver/
RUN pip install --no-cache-dir --no-deps . \
    && groupadd --system --gid 10001 mockserver \
    && useradd --system --uid 10001 --gid 10001 --no-create-home mockserver

# The shipped scenarios; mount your own folder here to replace them (read-only is enough).
COPY scenarios/ /scenarios/

USER 10001:10001
ENV MOCKSERVER_HOST=0.0.0.0 \
    MOCKSERVER_PORT=7777 \
    MOCKSERVER_SCENARIOS=/scenarios
EXPOSE 7777
HEALTHCHECK --interval=5s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-m", "mockserver.healthcheck"]
# Exec form: the server is PID 1 and gets SIGTERM itself (open streams end, exit within 2 s).
ENTRYPOINT ["mockserver"]
CMD ["serve"]
