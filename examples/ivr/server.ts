/**
 * The IVR page as a runnable app: /ivr/welcome plays the menu, /ivr/route
 * routes the key pressed; support (2) has a second level, /ivr/support.
 * Every request must carry a valid Sautikit signature.
 */
import express, { type Express } from 'express';
import { bodyParsers, env, isMain, requireSautikitSignature } from '../shared/webhook.js';

export interface IvrOptions {
  /** How Sautikit reaches this app (the action URLs point back here), e.g. http://127.0.0.1:3000. */
  publicUrl: string;
  /** The workspace signing secret; requests without a valid signature are refused. */
  signingSecret?: string;
  sales?: string;
  billing?: string;
  technical?: string;
}

export function createApp(options: IvrOptions): Express {
  const { publicUrl } = options;
  const sales = options.sales ?? '+254720000001';
  const billing = options.billing ?? '+254720000002';
  const technical = options.technical ?? '+254720000003';
  const app = express();
  app.use(...bodyParsers(), requireSautikitSignature(options.signingSecret));

  // Step 1: Sautikit calls this when the number is dialled.
  app.post('/ivr/welcome', (_req, res) => {
    res.json({
      actions: [
        {
          getDigits: {
            numDigits: 1,
            timeout: 5,
            finishOnKey: '',
            action: `${publicUrl}/ivr/route`,
            nested: [
              {
                say: {
                  text: 'Welcome to Acme Corp. Press 1 for sales. Press 2 for support. Press 3 to hear this menu again.',
                  language: 'en-US',
                },
              },
            ],
          },
        },
      ],
    });
  });

  // Step 2: digit collected.
  app.post('/ivr/route', (req, res) => {
    const digit = req.body.Digits ?? req.body.digits ?? '';
    if (digit === '1') {
      return res.json({
        actions: [
          { say: { text: 'Connecting you to sales.' } },
          { dial: { number: sales } },
        ],
      });
    }
    if (digit === '2') {
      // The second level: the page's "as many levels as you need" with another GetDigits.
      return res.json({
        actions: [
          {
            getDigits: {
              numDigits: 1,
              timeout: 5,
              finishOnKey: '',
              action: `${publicUrl}/ivr/support`,
              nested: [{ say: { text: 'Support. Press 1 for billing, 2 for technical.', language: 'en-US' } }],
            },
          },
        ],
      });
    }
    // Fallback: replay menu.
    return res.json({
      actions: [{ redirect: { url: `${publicUrl}/ivr/welcome` } }],
    });
  });

  // Step 3: the support menu.
  app.post('/ivr/support', (req, res) => {
    const digit = req.body.Digits ?? req.body.digits ?? '';
    const team = digit === '1' ? { name: 'billing', number: billing } : digit === '2' ? { name: 'technical support', number: technical } : undefined;
    if (!team) return res.json({ actions: [{ redirect: { url: `${publicUrl}/ivr/welcome` } }] });
    return res.json({
      actions: [
        { say: { text: `Connecting you to ${team.name}.` } },
        { dial: { number: team.number } },
      ],
    });
  });

  return app;
}

if (isMain(import.meta.url)) {
  const port = Number(env('PORT', '3000'));
  const app = createApp({ publicUrl: env('PUBLIC_URL', `http://127.0.0.1:${port}`), signingSecret: process.env.SAUTIKIT_SIGNING_SECRET });
  app.listen(port, () => console.log(`IVR listening on :${port}; routing_url ${env('PUBLIC_URL', `http://127.0.0.1:${port}`)}/ivr/welcome`));
}
