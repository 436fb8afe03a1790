"""huggingface_hub's InferenceClient against `tokentune serve`, as users point it: at the server
root (`InferenceClient(model="http://HOST:PORT")`) and at `/models/NAME`. Writes what the client
sent (method, path, Content-Type, body) and what it parsed from the answer, for
test/cli-serve-hf-body.test.ts to replay without Python.

  TOKENTUNE_HF_PYTHON=/tmp/hfenv/bin/python
  $TOKENTUNE_HF_PYTHON scripts/hf-inference-client.py MODEL_DIR OUT.json

The requests go first to a small recording proxy in this script, which forwards them to the
server unchanged; the run fails unless every call returns the entities the client can parse.
"""
import http.server
import json
import re
import subprocess
import sys
import threading
import urllib.request

import huggingface_hub
from huggingface_hub import InferenceClient

model_dir, out = sys.argv[1], sys.argv[2]
TEXTS = ['Anna and Bob live in Paris .', 'Peter works at Acme in Berlin .']

serve = subprocess.Popen(['node', 'bin/tokentune.js', 'serve', '--model', model_dir, '--port', '0'],
                         stdout=subprocess.PIPE, text=True)
try:
    line = serve.stdout.readline()
    port = int(re.search(r'http://127\.0\.0\.1:(\d+)/', line).group(1))
    seen = []

    class Recorder(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get('Content-Length', 0)))
            seen.append({'method': 'POST', 'path': self.path, 'content_type': self.headers.get('Content-Type'), 'body': body.decode()})
            req = urllib.request.Request(f'http://127.0.0.1:{port}{self.path}', data=body, method='POST',
                                         headers={'Content-Type': self.headers.get('Content-Type') or ''})
            try:
                with urllib.request.urlopen(req) as r:
                    status, data = r.status, r.read()
            except urllib.error.HTTPError as e:
                status, data = e.code, e.read()
            seen[-1]['status'] = status
            self.send_response(status)
            self.send_header('Content-Type', 'application/json')
            self.send_header('Content-Length', str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *a):
            pass

    proxy = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Recorder)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    base = f'http://127.0.0.1:{proxy.server_address[1]}'
    calls = []
    for url in [base, f'{base}/', f'{base}/models/tokentune', f'{base}/models/org/any-name']:
        client = InferenceClient(model=url)
        for text in TEXTS:
            for strategy in [None, 'simple']:
                kw = {'aggregation_strategy': strategy} if strategy else {}
                ents = client.token_classification(text, **kw)
                calls.append({'url': url[len(base):] or '(root)', 'text': text, 'aggregation_strategy': strategy,
                              'request': seen[-1], 'parsed': [dict(e) for e in ents]})
    proxy.shutdown()
    assert all(c['request']['status'] == 200 for c in calls), [c['request'] for c in calls if c['request']['status'] != 200]
    assert all(len(c['parsed']) > 0 for c in calls)
    with open(out, 'w') as f:
        json.dump({'huggingface_hub': huggingface_hub.__version__, 'model': model_dir, 'calls': calls}, f, indent=1)
        f.write('\n')
    print(f'{len(calls)} InferenceClient calls answered; wrote {out}')
finally:
    serve.terminate()
    serve.wait()
