/** How people write the providers' names (the tray window and the console show these, not ids). */
const PROVIDER_NAMES: Readonly<Record<string, string>> = { openai: 'OpenAI', anthropic: 'Anthropic', gemini: 'Google Gemini', azure: 'Azure OpenAI', 'azure-openai': 'Azure OpenAI', bedrock: 'AWS Bedrock', vertex: 'Google Vertex AI', mistral: 'Mistral', groq: 'Groq', xai: 'xAI', deepseek: 'DeepSeek', openrouter: 'OpenRouter', together: 'Together AI' };

/** A provider id in words: its known name, else the id with a capital. */
export function providerName(id: string): string {
  return PROVIDER_NAMES[id] ?? `${id[0]?.toUpperCase() ?? ''}${id.slice(1)}`;
}
