FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 LITELLM_LOCAL_MODEL_COST_MAP=True
WORKDIR /app
COPY requirements.txt constraints.txt ./
RUN pip install --no-cache-dir -r requirements.txt -c constraints.txt
COPY . .
# PYTHONDONTWRITEBYTECODE keeps containers from writing .pyc at run time, so compile the app once here (pip did
# the packages): every process start reads bytecode instead of compiling backend/ again.
RUN python -m compileall -q backend
# URLs that are never dialled: collectstatic needs no database, and settings must not start the embedded ones.
RUN PATCHBAY_DATA_DIR=/tmp/build SECRET_KEY=build DATABASE_URL=postgres://build@localhost/build \
    REDIS_URL=redis://localhost:6379/0 python manage.py collectstatic --noinput -v0 && rm -rf /tmp/build
EXPOSE 8000
# backend/config/web_cmd.py spells the same line.
CMD ["python", "-m", "uvicorn", "--host", "0.0.0.0", "--port", "8000", "--loop", "uvloop", "--http", "httptools", \
     "--ws", "websockets-sansio", "--lifespan", "off", "--no-access-log", "--no-proxy-headers", \
     "--timeout-keep-alive", "75", "--log-level", "warning", \
     "backend.config.asgi:application"]
