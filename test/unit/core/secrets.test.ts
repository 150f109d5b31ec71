import { describe, expect, it } from 'vitest';
import { secretsDetector } from '../../../shared/core/guardrails/secrets.js';
import { SECRET_RULES } from '../../../shared/core/guardrails/secret-rules.js';
import { ALNUM, HEX, LETTERS, rand, UPPER_B32, URLSAFE } from './samples.js';

const detector = secretsDetector();
const kinds = (text: string): string[] => detector.scan(text).map((f) => f.kind);

/** Per rule: a realistic sample in context, and a near miss that must not be reported as that kind. */
const CASES: Record<string, { sample: string; nearMiss: string }> = {
  'private-key': { sample: `here is my key:\n-----BEGIN RSA PRIVATE KEY-----\nMIIEow${rand(ALNUM, 60)}\n-----END RSA PRIVATE KEY-----\nthanks`, nearMiss: '-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----' },
  'aws-access-key-id': { sample: `aws_access_key_id = AKIA${rand(UPPER_B32, 16)}`, nearMiss: `the id AKIA${rand(UPPER_B32, 12)} is truncated` },
  'aws-secret-access-key': { sample: `AWS_SECRET_ACCESS_KEY="${rand(ALNUM + '/+', 40)}"`, nearMiss: 'aws_secret_access_key is read from the environment' },
  'gcp-api-key': { sample: `const key = "AIza${rand(URLSAFE, 35)}";`, nearMiss: `AIza${rand(URLSAFE, 20)} (too short)` },
  'gcp-service-account-key': { sample: `{"type": "service_account", "private_key_id": "${rand(HEX, 40)}"}`, nearMiss: '{"private_key_id": "<your key id>"}' },
  'google-oauth-client-secret': { sample: `client_secret: GOCSPX-${rand(URLSAFE, 28)}`, nearMiss: 'GOCSPX- prefix is used by Google OAuth' },
  'firebase-cloud-messaging-key': { sample: `server key AAAA${rand(URLSAFE, 7)}:APA91b${rand(URLSAFE, 134)}`, nearMiss: 'the token starts with APA91b and is long' },
  'azure-storage-account-key': { sample: `DefaultEndpointsProtocol=https;AccountName=acme;AccountKey=${rand(ALNUM + '+/', 86)}==;EndpointSuffix=core.windows.net`, nearMiss: 'AccountKey=<redacted>' },
  'azure-sas-token': { sample: `https://acme.blob.core.windows.net/c?sv=2022-11-02&ss=b&srt=o&sp=r&se=2026-01-01&sig=${rand(ALNUM, 43)}%3D`, nearMiss: 'sv=2022-11-02 is the service version' },
  'azure-ad-client-secret': { sample: `secret value: ab1${'8'}Q~${rand(ALNUM + '_~.-', 34)}`, nearMiss: 'Q~ is a strange pair of characters' },
  'github-fine-grained-pat': { sample: `GH_TOKEN=github_pat_${rand(ALNUM + '_', 82)}`, nearMiss: 'github_pat_ tokens are fine-grained' },
  'github-pat': { sample: `git clone https://ghp_${rand(ALNUM, 36)}@github.com/acme/x`, nearMiss: `ghp_${rand(ALNUM, 20)}` },
  'github-oauth-token': { sample: `token gho_${rand(ALNUM, 36)}`, nearMiss: `gho_${rand(ALNUM, 35)}x_more` },
  'github-app-token': { sample: `ghs_${rand(ALNUM, 36)}`, nearMiss: `ghs_${rand(ALNUM, 30)}` },
  'github-refresh-token': { sample: `refresh: ghr_${rand(ALNUM, 76)}`, nearMiss: 'ghr_ short' },
  'gitlab-pat': { sample: `PRIVATE-TOKEN: glpat-${rand(URLSAFE, 20)}`, nearMiss: 'glpat-short' },
  'gitlab-pipeline-trigger-token': { sample: `glptt-${rand(HEX, 40)}`, nearMiss: `glptt-${rand(HEX, 30)}` },
  'gitlab-runner-token': { sample: `runner token glrt-${rand(URLSAFE, 20)}`, nearMiss: 'glrt-abc' },
  'gitlab-deploy-token': { sample: `gldt-${rand(URLSAFE, 24)}`, nearMiss: 'gldt-1234' },
  'anthropic-admin-key': { sample: `sk-ant-admin01-${rand(URLSAFE, 93)}AA`, nearMiss: 'sk-ant-admin01-xyz' },
  'anthropic-api-key': { sample: `ANTHROPIC_API_KEY=sk-ant-api03-${rand(URLSAFE, 93)}AA`, nearMiss: 'sk-ant-api03-' },
  'openrouter-api-key': { sample: `Authorization: Bearer sk-or-v1-${rand(HEX, 64)}`, nearMiss: `sk-or-v1-${rand(HEX, 40)}` },
  'openai-api-key': { sample: `OPENAI_API_KEY=sk-proj-${rand(URLSAFE, 120)}`, nearMiss: 'use sk-proj-... from the dashboard' },
  'deepseek-api-key': { sample: `api_key="sk-${rand(HEX, 32)}"`, nearMiss: `sk-${rand(HEX, 20)}` },
  'huggingface-token': { sample: `HF_TOKEN=hf_${rand(LETTERS, 34)}`, nearMiss: 'hf_hub_download(repo_id)' },
  'groq-api-key': { sample: `gsk_${rand(ALNUM, 52)}`, nearMiss: `gsk_${rand(ALNUM, 40)}` },
  'xai-api-key': { sample: `XAI_API_KEY=xai-${rand(ALNUM, 80)}`, nearMiss: 'xai-grok-beta' },
  'perplexity-api-key': { sample: `pplx-${rand(ALNUM, 48)}`, nearMiss: 'pplx-api' },
  'replicate-api-token': { sample: `REPLICATE_API_TOKEN=r8_${rand(ALNUM, 37)}`, nearMiss: 'r8_model' },
  'slack-bot-token': { sample: `SLACK_BOT_TOKEN=xoxb-${rand('0123456789', 12)}-${rand('0123456789', 13)}-${rand(ALNUM, 24)}`, nearMiss: 'xoxb-not-a-token' },
  'slack-user-token': { sample: `xoxp-${rand('0123456789', 12)}-${rand('0123456789', 12)}-${rand('0123456789', 13)}-${rand(HEX, 32)}`, nearMiss: 'xoxp-1234' },
  'slack-app-token': { sample: `xapp-1-A${rand('ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789', 10)}-${rand('0123456789', 13)}-${rand(HEX, 64)}`, nearMiss: 'xapp-1-short' },
  'slack-webhook-url': { sample: `https://hooks.slack.com/services/T${rand('ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789', 10)}/B${rand('ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789', 10)}/${rand(ALNUM, 24)}`, nearMiss: 'https://hooks.slack.com/services/' },
  'stripe-secret-key': { sample: `Stripe.apiKey = "sk_live_${rand(ALNUM, 24)}";`, nearMiss: `pk_live_${rand(ALNUM, 24)}` },
  'twilio-api-key': { sample: `TWILIO_API_KEY=SK${rand(HEX, 32)}`, nearMiss: `SK${rand(HEX, 31)}z` },
  'sendgrid-api-key': { sample: `SG.${rand(URLSAFE, 22)}.${rand(URLSAFE, 43)}`, nearMiss: 'SG.example.com' },
  'mailgun-api-key': { sample: `MAILGUN_KEY=key-${rand(HEX, 32)}`, nearMiss: 'key-value store' },
  'npm-token': { sample: `//registry.npmjs.org/:_authToken=npm_${rand(ALNUM, 36)}`, nearMiss: 'npm_config_registry' },
  'pypi-token': { sample: `password = pypi-AgEIcHlwaS5vcmc${rand(URLSAFE, 70)}`, nearMiss: 'pypi-upload' },
  'docker-hub-pat': { sample: `dckr_pat_${rand(URLSAFE, 27)}`, nearMiss: 'dckr_pat_abc' },
  'shopify-token': { sample: `shpat_${rand(HEX, 32)}`, nearMiss: 'shpat_1234' },
  'digitalocean-token': { sample: `DIGITALOCEAN_TOKEN=dop_v1_${rand(HEX, 64)}`, nearMiss: 'dop_v1_' },
  'databricks-token': { sample: `DATABRICKS_TOKEN=dapi${rand(HEX, 32)}`, nearMiss: 'dapi endpoints' },
  'atlassian-api-token': { sample: `ATATT3${rand(URLSAFE + '=', 186)}`, nearMiss: 'ATATT3xFfGF0' },
  'linear-api-key': { sample: `lin_api_${rand(ALNUM, 40)}`, nearMiss: 'lin_api_key' },
  'vault-token': { sample: `VAULT_TOKEN=hvs.${rand(URLSAFE, 95)}`, nearMiss: 'hvs.short' },
  'grafana-service-account-token': { sample: `glsa_${rand(ALNUM, 32)}_${rand(HEX, 8)}`, nearMiss: 'glsa_token' },
  'new-relic-user-key': { sample: `NRAK-${rand('ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789', 27)}`, nearMiss: 'NRAK-123' },
  'postman-api-key': { sample: `PMAK-${rand(HEX, 24)}-${rand(HEX, 34)}`, nearMiss: 'PMAK-abc' },
  'square-token': { sample: `sq0atp-${rand(URLSAFE, 22)}`, nearMiss: 'sq0atp-x' },
  'age-secret-key': { sample: `AGE-SECRET-KEY-1${rand('QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L', 58)}`, nearMiss: 'AGE-SECRET-KEY-1 goes here' },
  'telegram-bot-token': { sample: `bot${rand('123456789', 9)}:AA${rand(URLSAFE, 33)}`, nearMiss: 'at 12:AA in the morning' },
  jwt: { sample: `Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.${rand(URLSAFE, 43)}`, nearMiss: 'eyJhbGciOiJIUzI1NiJ9 alone is just a header' },
  'connection-string-password': { sample: `DATABASE_URL=postgres://app:${rand(ALNUM, 16)}@db.internal:5432/app`, nearMiss: 'postgres://db.internal:5432/app' },
  'url-credentials': { sample: `fetch("https://admin:${rand(ALNUM, 14)}@intranet.acme.example/api")`, nearMiss: 'https://intranet.acme.example/api?user=admin' },
  'generic-secret-assignment': { sample: `client_secret = "${rand(ALNUM, 32)}"`, nearMiss: 'password = "correcthorsebatterystaple"' },
};

describe('secrets detector', () => {
  it('knows at least 40 credential formats, each with a test case here', () => {
    expect(SECRET_RULES.length).toBeGreaterThanOrEqual(40);
    expect(Object.keys(CASES).sort()).toEqual(SECRET_RULES.map((r) => r.kind).sort());
  });

  for (const rule of SECRET_RULES) {
    const c = CASES[rule.kind];
    if (c === undefined) continue;
    it(`finds ${rule.label} (${rule.kind})`, () => {
      expect(kinds(c.sample)).toContain(rule.kind);
    });
    it(`does not report a near miss as ${rule.kind}`, () => {
      expect(kinds(c.nearMiss)).not.toContain(rule.kind);
    });
  }

  it('reports where the secret is, so redaction covers all of it', () => {
    const key = `ghp_${rand(ALNUM, 36)}`;
    const text = `use ${key} please`;
    const [f] = detector.scan(text);
    expect(text.slice(f!.start, f!.end)).toBe(key);
  });

  it('finds nothing in ordinary prose and code', () => {
    const text = 'Please refactor this function: const total = items.reduce((a, b) => a + b.price, 0); the API key is stored in the vault, and the token count was 4096. See https://example.com/docs?page=2.';
    expect(detector.scan(text)).toEqual([]);
  });

  it('prefers the most specific format at one position', () => {
    expect(kinds(`sk-ant-api03-${rand(URLSAFE, 93)}AA`)).toEqual(['anthropic-api-key']);
  });
});
